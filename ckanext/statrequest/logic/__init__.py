"""The CKAN logic layer: actions (``action/``), their auth functions (``auth/``), schemas
(``schema/``), the validators they share and the dictization of our objects."""
