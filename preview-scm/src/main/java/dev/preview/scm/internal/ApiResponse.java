package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import okhttp3.Headers;

/** A successful (2xx) API answer, already read: status, headers and the JSON body (missing if empty). */
public record ApiResponse(int status, Headers headers, JsonNode json) {
  public ApiResponse {
    json = json == null ? MissingNode.getInstance() : json;
  }

  public String header(String name) {
    return headers.get(name);
  }
}
