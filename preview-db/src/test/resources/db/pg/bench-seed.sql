-- About 10 MB of rows for the clone-vs-migrate measurement (see CloneVsMigrateMeasureIT).
INSERT INTO users (email) SELECT 'user' || i || '@example.com' FROM generate_series(1, 25000) i;
INSERT INTO orders (user_id, total) SELECT 1 + (i % 25000), (i % 300) FROM generate_series(1, 50000) i;
SELECT setval('invoice_numbers', 25000);
