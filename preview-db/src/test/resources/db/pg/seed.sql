INSERT INTO users (email) SELECT 'user' || i || '@example.com' FROM generate_series(1, 1000) i;
INSERT INTO orders (user_id, total) SELECT 1 + (i % 1000), (i % 300) FROM generate_series(1, 3000) i;
SELECT setval('invoice_numbers', 1234);
