package dev.preview.dns.cloudflare;

import dev.preview.spi.ProviderException;
import java.util.List;
import java.util.stream.Collectors;

/** Turns Cloudflare's error codes into messages that say what to fix. */
final class CloudflareErrors {
  private CloudflareErrors() {}

  static ProviderException map(String provider, String what, int status, List<CloudflareApi.Message> errors, String zone) {
    String codes = errors.isEmpty() ? "no error details"
        : errors.stream().map(m -> m.code() + ": " + m.message()).collect(Collectors.joining("; "));
    String hint = hint(status, errors, zone);
    boolean retryable = status == 429 || status >= 500 || has(errors, 10013, 1015, 971);
    String message = what + " failed: HTTP " + status + " (" + codes + ")" + (hint.isEmpty() ? "" : ". " + hint);
    return new ProviderException(provider, message, retryable, status, null);
  }

  private static String hint(int status, List<CloudflareApi.Message> errors, String zone) {
    if (status == 401 || status == 403 || has(errors, 9109, 10000, 9106, 6003, 6111, 9103)) {
      return "Cloudflare rejected the API token: use a token with Zone:Read and DNS:Edit permission on zone "
          + zone + " (apiToken), and check it has not expired or been rolled";
    }
    if (has(errors, 81053, 81057, 81058)) {
      return "a record with that name already exists (created by someone else meanwhile?); it was not touched";
    }
    if (has(errors, 81054, 81055, 81056)) {
      return "a CNAME cannot share its name with other records: remove the other records at that name";
    }
    if (has(errors, 7000, 7003, 1001)) {
      return "the zone id is not valid for this token: check zone / zoneId";
    }
    if (has(errors, 9005, 9006, 9007, 9008, 1004, 9021)) {
      return "Cloudflare rejected the record's content or TTL (TTL must be 1 = auto, or 60-86400; proxied records"
          + " need an A, AAAA or CNAME)";
    }
    if (status == 429) {
      return "rate limited (1200 requests per 5 minutes per user); retries were exhausted, try again later";
    }
    if (status >= 500) {
      return "Cloudflare failed on its side; retries were exhausted, try again later";
    }
    return "";
  }

  private static boolean has(List<CloudflareApi.Message> errors, int... codes) {
    for (CloudflareApi.Message m : errors) {
      for (int c : codes) {
        if (m.code() == c) {
          return true;
        }
      }
    }
    return false;
  }
}
