package dev.preview.scm.github;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.WebhookResult.Accepted;
import dev.preview.scm.WebhookResult.Ignored;
import dev.preview.scm.WebhookResult.Reason;
import dev.preview.scm.WebhookResult.Rejected;
import dev.preview.scm.internal.Hmac;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GitHubWebhookSourceTest {
  static final String SECRET = "s3cr3t-webhook";
  final GitHubWebhookSource source = GitHubWebhookSource.builder(Secret.of(SECRET))
      .branchPreviews(List.of("staging", "release/*")).maxBodyBytes(64 * 1024).build();

  static WebhookRequest signed(String event, byte[] body) {
    return WebhookRequest.of(Map.of(
        "X-GitHub-Event", event,
        "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256", Hmac.sign(SECRET.getBytes(StandardCharsets.UTF_8), body),
        "Content-Type", "application/json"), body);
  }

  static ObjectNode pr(String action) {
    ObjectNode root = Fixtures.load("github/pull_request.opened.json");
    root.put("action", action);
    return root;
  }

  PullRequestEvent accepted(WebhookResult r) {
    assertThat(r).isInstanceOf(Accepted.class);
    assertThat(r.httpStatus()).isEqualTo(202);
    return ((Accepted) r).event();
  }

  @Test
  void githubDocsSignatureExample() {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    byte[] key = "It's a Secret to Everybody".getBytes(StandardCharsets.UTF_8);
    byte[] payload = "Hello, World!".getBytes(StandardCharsets.UTF_8);
    String expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assertThat(Hmac.sign(key, payload)).isEqualTo(expected);
    assertThat(Hmac.verify(key, payload, expected)).isTrue();
    assertThat(Hmac.verify(key, payload, expected.toUpperCase().replace("SHA256", "sha256"))).isTrue();
    assertThat(Hmac.verify(key, payload, expected.substring(0, expected.length() - 1) + "f")).isFalse();
    assertThat(Hmac.verify(key, "Hello, World?".getBytes(StandardCharsets.UTF_8), expected)).isFalse();
    assertThat(Hmac.verify("It's a Secret to Everybody!".getBytes(StandardCharsets.UTF_8), payload, expected)).isFalse();
  }

  @Test
  void openedBecomesAnOpenedEventWithEveryField() {
    PullRequestEvent e = accepted(source.handle(signed("pull_request", Fixtures.bytes(pr("opened")))));
    assertThat(e.action()).isEqualTo(Action.OPENED);
    assertThat(e.key()).isEqualTo(PreviewKey.pr("acme/shop", 42));
    assertThat(e.headSha()).isEqualTo("6dcb09b5b57875f334f61aebed695e2e4193db5e");
    assertThat(e.headRef()).isEqualTo("feature/basket");
    assertThat(e.baseRef()).isEqualTo("main");
    assertThat(e.author()).isEqualTo("octocat");
    assertThat(e.labels()).containsExactly("preview");
    assertThat(e.draft()).isFalse();
    assertThat(e.fromFork()).isFalse();
    assertThat(e.deliveryId()).isEqualTo("72d3162e-cc78-11e3-81ab-4c9367dc0958");
  }

  @ParameterizedTest
  @CsvSource({"synchronize,UPDATED", "reopened,REOPENED", "labeled,LABELED", "unlabeled,UNLABELED",
      "ready_for_review,READY_FOR_REVIEW", "converted_to_draft,CONVERTED_TO_DRAFT"})
  void pullRequestActions(String action, Action expected) {
    ObjectNode root = pr(action);
    if (action.equals("converted_to_draft")) {
      Fixtures.obj(root, "/pull_request").put("draft", true);
    }
    if (action.equals("labeled")) {
      root.putObject("label").put("name", "preview");
    }
    PullRequestEvent e = accepted(source.handle(signed("pull_request", Fixtures.bytes(root))));
    assertThat(e.action()).isEqualTo(expected);
    assertThat(e.pullRequest().isOpen()).isTrue();
    assertThat(e.draft()).isEqualTo(action.equals("converted_to_draft"));
  }

  @Test
  void closedMergedAndClosedUnmerged() {
    ObjectNode merged = pr("closed");
    Fixtures.obj(merged, "/pull_request").put("state", "closed").put("merged", true).put("merged_at", "2026-11-22T11:00:00Z");
    PullRequestEvent m = accepted(source.handle(signed("pull_request", Fixtures.bytes(merged))));
    assertThat(m.action()).isEqualTo(Action.MERGED);
    assertThat(m.pullRequest().state()).isEqualTo(PullRequest.State.MERGED);

    ObjectNode closed = pr("closed");
    Fixtures.obj(closed, "/pull_request").put("state", "closed").put("merged", false);
    PullRequestEvent c = accepted(source.handle(signed("pull_request", Fixtures.bytes(closed))));
    assertThat(c.action()).isEqualTo(Action.CLOSED);
    assertThat(c.pullRequest().state()).isEqualTo(PullRequest.State.CLOSED);
  }

  @Test
  void editedWithBaseChangeIsRetargetedOtherEditsIgnored() {
    ObjectNode retarget = pr("edited");
    Fixtures.obj(retarget, "/pull_request/base").put("ref", "release/2.0");
    ObjectNode base = retarget.putObject("changes").putObject("base");
    base.putObject("ref").put("from", "main");
    base.putObject("sha").put("from", "9049f1265b7d61be4a8904a9a27120d2064dab3b");
    PullRequestEvent e = accepted(source.handle(signed("pull_request", Fixtures.bytes(retarget))));
    assertThat(e.action()).isEqualTo(Action.RETARGETED);
    assertThat(e.baseRef()).isEqualTo("release/2.0");

    ObjectNode title = pr("edited");
    title.putObject("changes").putObject("title").put("from", "Old title");
    WebhookResult r = source.handle(signed("pull_request", Fixtures.bytes(title)));
    assertThat(r).isInstanceOf(Ignored.class);
    assertThat(((Ignored) r).reason()).contains("without a base change");
    assertThat(r.httpStatus()).isEqualTo(200);
  }

  @Test
  void forkIsDetectedFromTheHeadRepository() {
    ObjectNode root = pr("opened");
    ObjectNode headRepo = Fixtures.obj(root, "/pull_request/head/repo");
    headRepo.put("full_name", "mallory/shop").put("fork", true);
    assertThat(accepted(source.handle(signed("pull_request", Fixtures.bytes(root)))).fromFork()).isTrue();

    ObjectNode deletedFork = pr("synchronize");
    Fixtures.obj(deletedFork, "/pull_request/head").putNull("repo");
    assertThat(accepted(source.handle(signed("pull_request", Fixtures.bytes(deletedFork)))).fromFork()).isTrue();
  }

  @Test
  void unhandledActionsAndEventsAreIgnoredWithAReason() {
    WebhookResult assigned = source.handle(signed("pull_request", Fixtures.bytes(pr("assigned"))));
    assertThat(assigned).isEqualTo(new Ignored("pull_request action assigned is not handled", "72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    WebhookResult issues = source.handle(signed("issues", "{\"action\":\"opened\"}".getBytes(StandardCharsets.UTF_8)));
    assertThat(((Ignored) issues).reason()).isEqualTo("event issues is not handled");
  }

  @Test
  void labelsOnAClosedPullRequestAreIgnoredNotMalformed() {
    ObjectNode root = pr("labeled");
    Fixtures.obj(root, "/pull_request").put("state", "closed");
    WebhookResult r = source.handle(signed("pull_request", Fixtures.bytes(root)));
    assertThat(r).isInstanceOf(Ignored.class);
    assertThat(((Ignored) r).reason()).isEqualTo("pull_request labeled on a pull request that is CLOSED");
  }

  @Test
  void pingIsIgnoredWith200() {
    WebhookResult r = source.handle(signed("ping", Fixtures.bytes(Fixtures.load("github/ping.json"))));
    assertThat(r).isInstanceOf(Ignored.class);
    assertThat(((Ignored) r).reason()).startsWith("ping");
    assertThat(r.httpStatus()).isEqualTo(200);
  }

  @Test
  void pushToAMatchingBranchIsABranchPreviewUpdate() {
    PullRequestEvent e = accepted(source.handle(signed("push", Fixtures.bytes(Fixtures.load("github/push.json")))));
    assertThat(e.action()).isEqualTo(Action.UPDATED);
    assertThat(e.key()).isEqualTo(PreviewKey.branch("acme/shop", "staging"));
    assertThat(e.headSha()).isEqualTo("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
    assertThat(e.baseRef()).isEqualTo("main");

    ObjectNode created = Fixtures.load("github/push.json").put("created", true).put("ref", "refs/heads/release/2.0")
        .put("before", GitHubWebhookSource.ZERO_SHA);
    PullRequestEvent c = accepted(source.handle(signed("push", Fixtures.bytes(created))));
    assertThat(c.action()).isEqualTo(Action.OPENED);
    assertThat(c.key().branch()).isEqualTo("release/2.0");

    ObjectNode deleted = Fixtures.load("github/push.json").put("deleted", true).put("after", GitHubWebhookSource.ZERO_SHA);
    PullRequestEvent d = accepted(source.handle(signed("push", Fixtures.bytes(deleted))));
    assertThat(d.action()).isEqualTo(Action.CLOSED);
    assertThat(d.headSha()).isEqualTo("9049f1265b7d61be4a8904a9a27120d2064dab3b");
  }

  @Test
  void pushToOtherBranchesAndTagsIsIgnored() {
    ObjectNode other = Fixtures.load("github/push.json").put("ref", "refs/heads/feature/x");
    assertThat(((Ignored) source.handle(signed("push", Fixtures.bytes(other)))).reason()).contains("feature/x");
    ObjectNode nested = Fixtures.load("github/push.json").put("ref", "refs/heads/release/2.0/hotfix");
    assertThat(source.handle(signed("push", Fixtures.bytes(nested)))).isInstanceOf(Ignored.class);
    ObjectNode tag = Fixtures.load("github/push.json").put("ref", "refs/tags/v1.0");
    assertThat(((Ignored) source.handle(signed("push", Fixtures.bytes(tag)))).reason()).contains("not a branch");
    GitHubWebhookSource noBranches = GitHubWebhookSource.builder(Secret.of(SECRET)).build();
    assertThat(noBranches.handle(signed("push", Fixtures.bytes(Fixtures.load("github/push.json"))))).isInstanceOf(Ignored.class);
  }

  @Test
  void deleteOfABranchClosesItsPreview() {
    PullRequestEvent e = accepted(source.handle(signed("delete", Fixtures.bytes(Fixtures.load("github/delete.json")))));
    assertThat(e.action()).isEqualTo(Action.CLOSED);
    assertThat(e.key()).isEqualTo(PreviewKey.branch("acme/shop", "staging"));
    ObjectNode tag = Fixtures.load("github/delete.json").put("ref_type", "tag").put("ref", "v1");
    assertThat(source.handle(signed("delete", Fixtures.bytes(tag)))).isInstanceOf(Ignored.class);
  }

  @Test
  void missingOrWrongSignatureIsRejectedBeforeParsing() {
    byte[] notJson = "definitely { not json".getBytes(StandardCharsets.UTF_8);
    WebhookResult missing = source.handle(WebhookRequest.of(Map.of("X-GitHub-Event", "pull_request"), notJson));
    assertThat(missing).isInstanceOf(Rejected.class);
    assertThat(((Rejected) missing).reason()).isEqualTo(Reason.UNAUTHORIZED);
    assertThat(missing.httpStatus()).isEqualTo(401);

    byte[] body = Fixtures.bytes(pr("opened"));
    String otherSecret = Hmac.sign("another".getBytes(StandardCharsets.UTF_8), body);
    WebhookResult wrong = source.handle(WebhookRequest.of(Map.of("x-github-event", "pull_request", "x-hub-signature-256", otherSecret), body));
    assertThat(((Rejected) wrong).reason()).isEqualTo(Reason.UNAUTHORIZED);
    // a signature of the body before tampering does not cover the tampered body
    byte[] tampered = new String(body, StandardCharsets.UTF_8).replace("octocat", "mallory").getBytes(StandardCharsets.UTF_8);
    WebhookResult t = source.handle(WebhookRequest.of(Map.of("X-GitHub-Event", "pull_request",
        "X-Hub-Signature-256", Hmac.sign(SECRET.getBytes(StandardCharsets.UTF_8), body)), tampered));
    assertThat(((Rejected) t).reason()).isEqualTo(Reason.UNAUTHORIZED);
  }

  @Test
  void malformedAndTooLargeBodies() {
    WebhookResult notJson = source.handle(signed("pull_request", "{\"action\": ".getBytes(StandardCharsets.UTF_8)));
    assertThat(((Rejected) notJson).reason()).isEqualTo(Reason.MALFORMED);
    assertThat(notJson.httpStatus()).isEqualTo(400);

    ObjectNode noSha = pr("opened");
    Fixtures.obj(noSha, "/pull_request/head").remove("sha");
    Rejected r = (Rejected) source.handle(signed("pull_request", Fixtures.bytes(noSha)));
    assertThat(r.reason()).isEqualTo(Reason.MALFORMED);
    assertThat(r.message()).contains("head.sha");

    ObjectNode badSha = pr("opened");
    Fixtures.obj(badSha, "/pull_request/head").put("sha", "$(rm -rf /)");
    assertThat(((Rejected) source.handle(signed("pull_request", Fixtures.bytes(badSha)))).reason()).isEqualTo(Reason.MALFORMED);

    byte[] big = new byte[64 * 1024 + 1];
    WebhookResult tooLarge = source.handle(signed("pull_request", big));
    assertThat(((Rejected) tooLarge).reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(tooLarge.httpStatus()).isEqualTo(413);
  }
}
