package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Managed PostgreSQL (RDS, Cloud SQL...) gives no superuser: an admin with only CREATEDB and
 * CREATEROLE builds the baseline and provisions previews.
 */
class NonSuperuserAdminIT {
  @Test
  void createdbCreateroleAdminBuildsTheBaselineAndProvisionsIsolatedPreviews() throws Exception {
    PgServer.Admin su = PgServer.admin();
    String adminName = "plain_admin_" + UUID.randomUUID().toString().substring(0, 6);
    Secret pw = Secret.of("pw-" + UUID.randomUUID());
    try (Connection c = su.connect("postgres")) {
      PgSql.ddl(c, "CREATE ROLE %I LOGIN CREATEDB CREATEROLE PASSWORD %L", adminName, pw.reveal());
    }
    PgServer.Admin admin = new PgServer.Admin(su.url(), adminName, pw);
    String baseline = adminName + "_base";
    admin.baseline().database(baseline).migrations(List.of("classpath:db/pg/migration"))
        .seed(List.of(Path.of(getClass().getResource("/db/pg/seed.sql").toURI()))).build().refresh();
    PostgresDatabaseProvider p = admin.provider().baseline(baseline).build();
    PreviewKey a = PreviewKey.pr("acme/plain-" + adminName, 1);
    PreviewKey b = PreviewKey.pr("acme/plain-" + adminName, 2);
    try {
      DatabaseConnection ca = p.create(a, DatabaseSpec.empty());
      DatabaseConnection cb = p.create(b, DatabaseSpec.empty());
      try (Connection db = DriverManager.getConnection(ca.url(), ca.username(), ca.password().reveal());
           Statement st = db.createStatement()) {
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(1000);
        }
        st.execute("ALTER TABLE users ADD COLUMN nickname text"); // owns its tables
      }
      assertThatThrownBy(() -> DriverManager.getConnection(cb.url(), ca.username(), ca.password().reveal()).close())
          .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
      assertThat(p.list()).contains(a, b);
      p.drop(a);
      p.drop(b);
      assertThat(p.list()).doesNotContain(a, b);
    } finally {
      try (Connection c = su.connect("postgres")) {
        for (PreviewKey k : List.of(a, b)) {
          PgSql.ddl(c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", dev.preview.spi.Names.postgres(k));
          PgSql.ddl(c, "DROP ROLE IF EXISTS %I", dev.preview.spi.Names.postgres(k));
        }
      }
      try (Connection c = su.connect("postgres")) {
        PgSql.ddl(c, "ALTER DATABASE %I WITH IS_TEMPLATE false", baseline);
        PgSql.ddl(c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", baseline);
        PgSql.ddl(c, "DROP ROLE %I", adminName);
      }
    }
  }
}
