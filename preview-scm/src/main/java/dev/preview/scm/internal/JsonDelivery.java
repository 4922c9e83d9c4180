package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.WebhookResult.Ignored;
import dev.preview.scm.WebhookResult.Reason;
import dev.preview.scm.WebhookResult.Rejected;
import java.io.IOException;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The part of webhook handling that comes after a delivery is verified, the same for GitHub and
 * GitLab: the event name from a header, the body as a JSON object, then the SCM's own handling of
 * that event, and the branch filter of pushes. Anything malformed on the way (no event header, a body that is not a JSON object, a
 * payload missing a field its event always has) is {@link Reason#MALFORMED}.
 */
public final class JsonDelivery {
  private JsonDelivery() {}

  /** What an SCM does with one verified event. */
  @FunctionalInterface
  public interface Handler {
    /** May throw {@link Json.MissingField} or {@link IllegalArgumentException} on a malformed payload. */
    WebhookResult handle(String event, JsonNode root);
  }

  /** Reads the event named by {@code eventHeader} and the body of a verified delivery, and hands both to {@code handler}. */
  public static WebhookResult route(WebhookRequest request, String eventHeader, String delivery, Handler handler) {
    String event = request.header(eventHeader);
    if (event == null || event.isBlank()) {
      return new Rejected(Reason.MALFORMED, "no " + eventHeader + " header", delivery);
    }
    JsonNode root;
    try {
      root = ApiClient.MAPPER.readTree(request.body());
    } catch (IOException e) {
      return new Rejected(Reason.MALFORMED, "body is not JSON: " + firstLine(e.getMessage()), delivery);
    }
    if (root == null || !root.isObject()) {
      return new Rejected(Reason.MALFORMED, "body is not a JSON object", delivery);
    }
    try {
      return handler.handle(event, root);
    } catch (Json.MissingField | IllegalArgumentException e) {
      return new Rejected(Reason.MALFORMED, event + ": " + e.getMessage(), delivery);
    }
  }

  /**
   * A push payload's branch handed to {@code handle}, if the push is to a branch ({@code refs/heads/…})
   * that one of the {@code branchPreviews} globs matches; otherwise {@link Ignored} with the reason.
   */
  public static WebhookResult branchPush(JsonNode root, Predicate<String> branchPreviews, String delivery,
      Function<String, WebhookResult> handle) {
    String ref = Json.text(root, "/ref");
    if (!ref.startsWith("refs/heads/")) {
      return new Ignored("push to " + ref + " (not a branch)", delivery);
    }
    String branch = ref.substring("refs/heads/".length());
    if (!branchPreviews.test(branch)) {
      return new Ignored("push to branch " + branch + ", which no branchPreviews glob matches", delivery);
    }
    return handle.apply(branch);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
