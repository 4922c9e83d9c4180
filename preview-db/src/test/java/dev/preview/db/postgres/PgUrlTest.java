package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PgUrlTest {
  @Test
  void readsHostPortDatabaseAndKeepsParameters() {
    PgUrl u = PgUrl.parse("jdbc:postgresql://db.internal:6543/app?sslmode=require&ApplicationName=x");
    assertThat(u.host()).isEqualTo("db.internal");
    assertThat(u.port()).isEqualTo(6543);
    assertThat(u.database()).isEqualTo("app");
    assertThat(u.withDatabase("pv_x")).isEqualTo("jdbc:postgresql://db.internal:6543/pv_x?sslmode=require&ApplicationName=x");
  }

  @Test
  void defaultsAndIpv6AndSeveralHosts() {
    assertThat(PgUrl.parse("jdbc:postgresql://h").port()).isEqualTo(5432);
    assertThat(PgUrl.parse("jdbc:postgresql://h/").database()).isEqualTo("postgres");
    PgUrl v6 = PgUrl.parse("jdbc:postgresql://[::1]:5433/x");
    assertThat(v6.host()).isEqualTo("[::1]");
    assertThat(v6.port()).isEqualTo(5433);
    assertThat(PgUrl.parse("jdbc:postgresql://[::1]/x").port()).isEqualTo(5432);
    PgUrl multi = PgUrl.parse("jdbc:postgresql://a:1,b:2/x");
    assertThat(multi.host()).isEqualTo("a");
    assertThat(multi.withDatabase("y")).isEqualTo("jdbc:postgresql://a:1,b:2/y");
  }

  @Test
  void rejectsOtherUrls() {
    assertThatThrownBy(() -> PgUrl.parse("jdbc:mysql://h/x")).hasMessageContaining("jdbc:postgresql://");
    assertThatThrownBy(() -> PgUrl.parse("jdbc:postgresql:///x")).hasMessageContaining("no host");
  }
}
