package dev.preview.dns.route53;

import dev.preview.spi.ProviderException;
import software.amazon.awssdk.services.route53.model.InvalidChangeBatchException;
import software.amazon.awssdk.services.route53.model.Route53Exception;

/** Turns Route 53 error codes into messages that say what to fix. */
final class Route53Errors {
  private Route53Errors() {}

  static ProviderException map(String provider, String what, Route53Exception e, String zone) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
    if (e instanceof InvalidChangeBatchException batch) {
      // its body is <InvalidChangeBatch><Messages>..., not the usual <ErrorResponse>
      code = "InvalidChangeBatch";
      if (batch.hasMessages() && !batch.messages().isEmpty()) {
        message = String.join("; ", batch.messages());
      }
    }
    if (code == null) {
      String simple = e.getClass().getSimpleName();
      code = simple.endsWith("Exception") && !simple.equals("Route53Exception")
          ? simple.substring(0, simple.length() - "Exception".length()) : null;
    }
    if (message == null) {
      message = e.getMessage();
    }
    int status = e.statusCode();
    String hint = switch (code == null ? "" : code) {
      case "AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
          "ExpiredToken", "UnrecognizedClientException" ->
          "the credentials were refused: they need route53:ListHostedZonesByName, ListResourceRecordSets,"
              + " ChangeResourceRecordSets and GetChange on the hosted zone of " + zone;
      case "NoSuchHostedZone" -> "no hosted zone with that id: check hostedZoneId / zone";
      case "InvalidChangeBatch" -> "Route 53 refused the change batch (a record changed meanwhile, or a CNAME"
          + " would share its name); nothing was changed";
      case "Throttling", "PriorRequestNotComplete" -> "Route 53 kept throttling after every retry; try again later";
      default -> "";
    };
    boolean retryable = status >= 500 || "Throttling".equals(code) || "PriorRequestNotComplete".equals(code);
    String text = what + " failed: HTTP " + status + " " + (code == null ? "" : code + ": ") + message
        + (hint.isEmpty() ? "" : ". " + hint);
    return new ProviderException(provider, text, retryable, status, e);
  }
}
