package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.testkit.Servers;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code preview db baseline} against a real PostgreSQL (embedded, zonky): the template database
 * (mode database) or schema (mode schema) named in {@code database.baseline} is built from the
 * Flyway migrations and seed files of {@code database.build}, and a second run rebuilds it.
 */
class DbBaselineCommandPostgresIT {
  static EmbeddedPostgres pg;
  static String url;

  @TempDir Path dir;
  Path migrations;
  Path seed;
  final String name = "cli_" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void start() {
    String failure = null;
    try {
      pg = EmbeddedPostgres.builder().setServerConfig("fsync", "off").start();
    } catch (IOException | RuntimeException e) {
      failure = e.toString();
    }
    Servers.require("PostgreSQL (embedded, zonky)" + (failure == null ? "" : ": " + failure), pg != null,
        "fix the embedded start (see the error)");
    url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
  }

  @AfterAll
  static void stop() throws IOException {
    if (pg != null) {
      pg.close();
    }
  }

  @BeforeEach
  void project() throws IOException {
    migrations = Files.createDirectories(dir.resolve("src/main/resources/db/migration"));
    Files.writeString(migrations.resolve("V1__customers.sql"), "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);");
    Files.writeString(migrations.resolve("V2__orders.sql"),
        "CREATE TABLE orders (id serial PRIMARY KEY, customer int NOT NULL REFERENCES customers);\nCREATE INDEX orders_customer ON orders(customer);");
    seed = Files.writeString(dir.resolve("seed.sql"),
        "INSERT INTO customers(name) VALUES ('Ada'), ('Grace');\nINSERT INTO orders(customer) SELECT id FROM customers;");
  }

  Path config(String mode) throws IOException {
    return Files.writeString(dir.resolve("preview.yaml"), """
        repository: acme/shop
        app:
          image: registry.example/shop:1
        database:
          provider: postgres
          url: %s
          username: postgres
          mode: %s
          baseline: %s
          connectionLimit: 5
          build:
            migrations: ['filesystem:%s']
            seed: ['%s']
        """.formatted(url, mode, name, migrations, seed));
  }

  static CliRun.Result preview(String... args) {
    return DbBaselineCommandTest.preview(args);
  }

  static Connection connect(String db) throws SQLException {
    return DriverManager.getConnection(url.replace("/postgres", "/" + db), "postgres", null);
  }

  static List<String> column(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static void execute(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** What a preview would get: a database cloned from the template the command built. */
  List<String> inAClone(String sql) throws SQLException {
    String clone = name + "_check";
    try (Connection admin = connect("postgres")) {
      execute(admin, "CREATE DATABASE \"" + clone + "\" TEMPLATE \"" + name + "\"");
      try (Connection c = connect(clone)) {
        return column(c, sql);
      } finally {
        execute(admin, "DROP DATABASE \"" + clone + "\" WITH (FORCE)");
      }
    }
  }

  @Test
  void buildsTheTemplateDatabaseThenRefreshesIt() throws Exception {
    Path config = config("database");

    CliRun.Result first = preview("db", "baseline", "--config", config.toString());

    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("postgres baseline " + name + " is ready: 2 migrations applied, 1 seed file, ")
        .containsPattern("\\d+\\.\\d MB, in ");
    assertThat(inAClone("SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer ORDER BY o.id"))
        .containsExactly("Ada", "Grace");
    assertThat(inAClone("SELECT indexname FROM pg_indexes WHERE tablename = 'orders' ORDER BY 1"))
        .containsExactly("orders_customer", "orders_pkey");
    try (Connection admin = connect("postgres")) {
      assertThat(column(admin, "SELECT datistemplate::text || ' ' || datallowconn::text FROM pg_database WHERE datname = '"
          + name + "'")).containsExactly("true false");
    }

    Files.writeString(seed, "INSERT INTO customers(name) VALUES ('Linus');");
    CliRun.Result second = preview("db", "baseline", "--config", config.toString());

    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.out()).contains("postgres baseline " + name + " is ready: 2 migrations applied, 1 seed file");
    assertThat(inAClone("SELECT name FROM customers ORDER BY id")).containsExactly("Linus");
    assertThat(inAClone("SELECT count(*) FROM orders")).containsExactly("0");
    try (Connection admin = connect("postgres")) {
      assertThat(column(admin, "SELECT datname FROM pg_database WHERE datname LIKE '" + name + "%' ORDER BY 1"))
          .containsExactly(name); // nothing left aside (<name>_next)
      execute(admin, "ALTER DATABASE \"" + name + "\" WITH IS_TEMPLATE false");
      execute(admin, "DROP DATABASE \"" + name + "\" WITH (FORCE)");
    }
  }

  @Test
  void buildsTheBaselineSchemaInModeSchemaThenRefreshesIt() throws Exception {
    Path config = config("schema");

    CliRun.Result first = preview("db", "baseline", "--config", config.toString());

    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("postgres baseline " + name + " is ready: 2 migrations applied, 1 seed file");
    try (Connection c = connect("postgres")) {
      assertThat(column(c, "SELECT name FROM \"" + name + "\".customers ORDER BY id")).containsExactly("Ada", "Grace");
      assertThat(column(c, "SELECT count(*) FROM \"" + name + "\".orders")).containsExactly("2");
    }

    Files.writeString(seed, "INSERT INTO customers(name) VALUES ('Linus');");
    assertThat(preview("db", "baseline", "--config", config.toString()).code()).isZero();
    try (Connection c = connect("postgres")) {
      assertThat(column(c, "SELECT name FROM \"" + name + "\".customers ORDER BY id")).containsExactly("Linus");
      assertThat(column(c, "SELECT nspname FROM pg_namespace WHERE nspname LIKE '" + name + "%'")).containsExactly(name);
      execute(c, "DROP SCHEMA \"" + name + "\" CASCADE");
    }
  }

  @Test
  void anUnreachableServerExitsOneWithTheReason() throws Exception {
    Path config = Files.writeString(dir.resolve("down.yaml"), """
        database:
          provider: postgres
          url: jdbc:postgresql://127.0.0.1:1/postgres
          baseline: nowhere
        """);
    CliRun.Result run = preview("db", "baseline", "--config", config.toString());
    assertThat(run.code()).isEqualTo(PreviewCli.FAILED);
    assertThat(run.err()).contains("cannot build baseline database nowhere");
  }
}
