-- The progress last shown to the admin, so an unchanged one is not edited again every 3 s.
ALTER TABLE broadcasts ADD COLUMN shown TEXT;
