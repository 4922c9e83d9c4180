CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  total numeric(12, 2) NOT NULL CHECK (total >= 0),
  total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED
);
CREATE INDEX orders_user ON orders (user_id);
CREATE SEQUENCE invoice_numbers START 1000;
CREATE VIEW big_orders AS SELECT o.id, u.email, o.total FROM orders o JOIN users u ON u.id = o.user_id WHERE o.total > 100;
