"""The CKAN logic layer: actions (``action/``), their auth functions (``auth/``), schemas
(``schema/``), the API's names (``api``), what actions and auth functions share (``common``),
the validators and the dictization of our objects."""
