ALTER TABLE users ADD COLUMN nickname text;
CREATE TABLE coupons (code text PRIMARY KEY);
