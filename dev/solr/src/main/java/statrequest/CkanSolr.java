package statrequest;

import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Runs a real Solr 9 node with the cores found in a Solr home, for CKAN's search index.
 * JettySolrRunner binds its connector to 127.0.0.1 only, so the node is never reachable
 * from outside the machine.
 *
 * Usage: java -cp ... statrequest.CkanSolr SOLR_HOME PORT
 */
public final class CkanSolr {
    private CkanSolr() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CkanSolr SOLR_HOME [PORT]");
            System.exit(2);
        }
        String home = args[0];
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8983;
        JettyConfig config = JettyConfig.builder()
                .setPort(port)
                .setContext("/solr")
                .stopAtShutdown(true)
                .build();
        JettySolrRunner runner = new JettySolrRunner(home, config);
        runner.start();
        if (runner.getLocalPort() != port) {
            System.err.println("Solr started on an unexpected port " + runner.getLocalPort());
            runner.stop();
            System.exit(1);
        }
        System.out.println("READY http://127.0.0.1:" + port + "/solr");
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.stop();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        Thread.currentThread().join();
    }
}
