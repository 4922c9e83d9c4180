package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.CommandPermissions;
import dev.preview.scm.CommentCommand;
import dev.preview.scm.WebhookResult;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A replica that does not lead shows everything and acts on nothing: dashboard actions (API and
 * forms) and PR comment commands are refused with the leader's name; once it leads, they work.
 */
class DashboardLeadershipTest {
  private static final PreviewKey ONE = PreviewKey.pr("acme/shop", 1);
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicInteger checks = new AtomicInteger();
  private DashboardFixture f;

  @AfterEach
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(f.url(path)).header("Authorization", "Bearer " + DashboardFixture.ADMIN);
  }

  @Test
  void aReplicaThatDoesNotLeadShowsEverythingAndRefusesActionsNamingTheLeader() throws Exception {
    CommandPermissions everyone = new CommandPermissions() {
      @Override public String name() { return "github"; }
      @Override public Permission check(CommentCommand c) { checks.incrementAndGet(); return new Permission(true, "write"); }
    };
    f = new DashboardFixture(DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), Secret.of(DashboardFixture.READ)), everyone);
    f.deploy(DashboardFixture.pr(1));
    String expires = f.env.find(ONE).orElseThrow().labels().get(Labels.EXPIRES);
    f.leads.set(false);
    f.leader.set("preview-serve-7d9f-b");

    // reads work
    HttpResponse<String> list = send(req("/api/previews"));
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(PreviewJson.JSON.readTree(list.body()).get(0).get("key").asText()).isEqualTo("acme/shop#1");
    HttpResponse<String> page = send(req("/ui/"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("This replica does not lead (the leader is preview-serve-7d9f-b)").contains("acme/shop#1");
    HttpResponse<String> detail = send(req("/ui/previews/acme/shop/1"));
    assertThat(detail.statusCode()).isEqualTo(200);
    assertThat(detail.body()).as("no action buttons here").doesNotContain("/ui/previews/acme/shop/1/extend")
        .contains("the leader is preview-serve-7d9f-b");

    // actions are refused, nothing changes
    HttpResponse<String> api = send(req("/api/previews/acme/shop/1/extend").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(api.statusCode()).isEqualTo(503);
    assertThat(api.headers().firstValue("Retry-After")).isPresent();
    JsonNode body = PreviewJson.JSON.readTree(api.body());
    assertThat(body.get("status").asText()).isEqualTo("not_leader");
    assertThat(body.get("leader").asText()).isEqualTo("preview-serve-7d9f-b");
    assertThat(body.get("message").asText()).contains("does not lead", "preview-serve-7d9f-b");
    HttpResponse<String> form = send(req("/ui/previews/acme/shop/1/delete").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("")));
    assertThat(form.statusCode()).isEqualTo(503);
    assertThat(form.body()).contains("the leader is preview-serve-7d9f-b");
    assertThat(f.env.find(ONE)).as("not deleted").isPresent();
    assertThat(f.env.find(ONE).orElseThrow().labels().get(Labels.EXPIRES)).as("not extended").isEqualTo(expires);

    // a PR command is refused without being remembered, so the leader runs its redelivery
    WebhookResult.Command pin = new WebhookResult.Command(new CommentCommand(ONE, "pin", "", "ana", "1", false, true, "c-1", "d-1"));
    assertThatThrownBy(() -> f.commands.apply(pin)).hasMessageContaining("does not lead").hasMessageContaining("preview-serve-7d9f-b");
    f.leader.set(null);
    assertThatThrownBy(() -> f.commands.apply(pin)).hasMessageContaining("the leader is not known right now");
    assertThat(checks).as("not even the permission was asked").hasValue(0);

    f.leads.set(true);
    assertThat(f.commands.apply(pin)).startsWith("running");
    org.awaitility.Awaitility.await().until(() -> "operator".equals(f.env.find(ONE).orElseThrow().labels().get(Labels.PINNED)));
    HttpResponse<String> ok = send(req("/api/previews/acme/shop/1/extend").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(send(req("/ui/previews/acme/shop/1")).body()).doesNotContain("does not lead")
        .contains("/ui/previews/acme/shop/1/extend");
  }
}
