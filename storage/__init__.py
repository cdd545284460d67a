"""SQLite storage on aiosqlite: connection, migrations, one module per aggregate."""
