package dev.preview.db.postgres;

import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The PostgreSQL server of the integration tests: the one given by {@code PREVIEW_POSTGRES_URL}
 * (+ {@code PREVIEW_POSTGRES_USER}, {@code PREVIEW_POSTGRES_PASSWORD}; a superuser or a
 * CREATEDB+CREATEROLE user), else an embedded PostgreSQL started once per JVM. The embedded one
 * trusts only its {@code postgres} superuser; every other role must present its SCRAM password, so
 * tests of wrong credentials mean something.
 */
final class PgServer {
  private static EmbeddedPostgres embedded;
  private static String failure;

  private PgServer() {}

  record Admin(String url, String user, Secret password) {
    PostgresDatabaseProvider.Builder provider() {
      return PostgresDatabaseProvider.builder().url(url).username(user).password(password);
    }

    PostgresBaseline.Builder baseline() {
      return PostgresBaseline.builder().url(url).username(user).password(password);
    }

    Connection connect(String db) throws SQLException {
      return DriverManager.getConnection(PgUrl.parse(url).withDatabase(db), user, password == null ? null : password.reveal());
    }
  }

  static synchronized Admin admin() {
    String url = System.getenv("PREVIEW_POSTGRES_URL");
    if (url != null && !url.isBlank()) {
      String pw = System.getenv("PREVIEW_POSTGRES_PASSWORD");
      return new Admin(url, System.getenv().getOrDefault("PREVIEW_POSTGRES_USER", "postgres"), pw == null ? null : Secret.of(pw));
    }
    if (embedded == null && failure == null) {
      try {
        embedded = EmbeddedPostgres.builder()
            .setDataDirectoryCustomizer(dir -> {
              try {
                Files.writeString(dir.toPath().resolve("pg_hba.conf"), """
                    host all postgres 127.0.0.1/32 trust
                    host all postgres ::1/128 trust
                    host all all 127.0.0.1/32 scram-sha-256
                    host all all ::1/128 scram-sha-256
                    """, StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            })
            .setServerConfig("fsync", "off")
            .setServerConfig("max_connections", "200")
            .start();
      } catch (IOException | RuntimeException e) {
        failure = e.toString();
      }
    }
    Servers.require("PostgreSQL (embedded, zonky)" + (failure == null ? "" : ": " + failure), embedded != null,
        "set PREVIEW_POSTGRES_URL/USER/PASSWORD to a server, or fix the embedded start (see the error)");
    return new Admin("jdbc:postgresql://127.0.0.1:" + embedded.getPort() + "/postgres", "postgres", null);
  }
}
