package dev.preview.scm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/** Vendor-shaped payloads from {@code src/test/resources/fixtures}, as mutable trees, and the JSON plumbing of the fake SCMs. */
public final class Fixtures {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Fixtures() {}

  public static ObjectNode load(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      return (ObjectNode) MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ObjectNode obj(JsonNode node, String path) {
    return (ObjectNode) node.at(path);
  }

  /** A JSON answer of a fake SCM. */
  public static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  public static MockResponse json(int code, JsonNode body) {
    return json(code, body.toString());
  }

  /** The JSON object a client sent. */
  public static ObjectNode requestJson(RecordedRequest r) {
    try {
      return (ObjectNode) MAPPER.readTree(r.getBody().utf8());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
