"""Letters and signatures: plain Python (WeasyPrint, pyHanko, segno, certomancer), no CKAN/Flask.

Modules (import what you need; this package imports nothing heavy by itself):

* ``letter``  - ``LetterData`` -> PDF/A-3b reply letter with ``record.json`` attached, plus the
  layout of the three signature areas (``render_letter``, ``render_letter_with_layout``,
  ``prepare_letter`` = render + empty fields).
* ``fields``  - ``add_signature_fields``: empty ``Paraf1`` / ``Paraf2`` / ``TTE`` fields with locks.
* ``signers`` - ``SignerBackend`` protocol; PKCS#12, PKCS#11 and remote BSrE-shaped backends;
  ``sign_sync`` for background jobs.
* ``verify``  - ``verify_pdf`` -> ``Verdict`` (valid / changed / revoked / untrusted / damaged /
  unsigned / too_complex).
* ``pdfbudget`` - ``Budget`` (limits) and the structural pre-check of an untrusted PDF.
* ``sandbox`` - ``verify_pdf_isolated``: ``verify_pdf`` in a child process with CPU, memory and
  wall-clock limits (untrusted uploads).
* ``testpki`` - demo PKI for ``ckan statrequest init-test-pki`` and tests (never production).
* ``layout``, ``certs`` - small shared types and certificate loading.
"""
