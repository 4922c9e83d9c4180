CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (email);
