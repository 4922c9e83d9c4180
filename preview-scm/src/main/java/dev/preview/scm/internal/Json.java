package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads required fields of a webhook payload, failing with the JSON path that is missing. */
public final class Json {
  private Json() {}

  /** Thrown when a verified payload lacks a field its event type always has. */
  public static final class MissingField extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MissingField(String message) {
      super(message, null, false, false);
    }
  }

  public static String text(JsonNode root, String path) {
    JsonNode n = root.at(path);
    if (!n.isValueNode() || n.isNull() || n.asText().isEmpty()) {
      throw new MissingField("payload has no " + path.substring(1).replace('/', '.'));
    }
    return n.asText();
  }

  public static String textOr(JsonNode root, String path, String dflt) {
    JsonNode n = root.at(path);
    return n.isValueNode() && !n.isNull() ? n.asText() : dflt;
  }

  public static int positiveInt(JsonNode root, String path) {
    JsonNode n = root.at(path);
    if (!n.canConvertToInt() || n.asInt() <= 0) {
      throw new MissingField("payload has no positive number at " + path.substring(1).replace('/', '.'));
    }
    return n.asInt();
  }
}
