"""Storage: tables, the database connection, migrations."""
