package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP layer shared by the GitHub and GitLab clients: JSON in and out, rate limits, retries
 * and errors mapped to {@link ProviderException}s that say what to fix.
 *
 * <p>Retry rules: a rate-limited answer (429, or 403 that says so) was not acted on, so any call
 * is retried after the wait the server asks for ({@code Retry-After}, else the rate-limit reset
 * time, else a backoff for secondary limits), as long as the wait is under {@code maxWait}. A 5xx
 * or I/O failure is retried only for idempotent methods: a POST that failed midway may have been
 * applied, so its caller must look before creating again.
 */
public final class ApiClient {
  private static final Logger LOG = LoggerFactory.getLogger(ApiClient.class);
  static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private final String provider;
  private final OkHttpClient http;
  private final Clock clock;
  private final Sleeper sleeper;
  private final int maxAttempts;
  private final Duration maxWait;
  private final Duration backoff;
  private final Duration secondaryBackoff;

  private ApiClient(Builder b) {
    this.provider = b.provider;
    this.http = b.http;
    this.clock = b.clock;
    this.sleeper = b.sleeper;
    this.maxAttempts = b.maxAttempts;
    this.maxWait = b.maxWait;
    this.backoff = b.backoff;
    this.secondaryBackoff = b.secondaryBackoff;
  }

  public static Builder builder(String provider) {
    return new Builder(provider);
  }

  public Clock clock() {
    return clock;
  }

  public ApiResponse get(HttpUrl url, Map<String, String> headers) {
    return send("GET", url, null, headers);
  }

  /**
   * Sends one call, retrying as the class comment says. Headers are evaluated per attempt
   * through the supplier so that a token refreshed in between is used.
   */
  public ApiResponse send(String method, HttpUrl url, JsonNode body, Map<String, String> headers) {
    return send(method, url, body, () -> headers);
  }

  public ApiResponse send(String method, HttpUrl url, JsonNode body, Supplier<Map<String, String>> headers) {
    Objects.requireNonNull(method, "method");
    boolean idempotent = !method.equals("POST");
    String what = method + " " + url.encodedPath();
    int secondaryHits = 0;
    int errorRetries = 0;
    for (int attempt = 1; ; attempt++) {
      Request request = request(method, url, body, headers.get());
      try (Response response = http.newCall(request).execute()) {
        int code = response.code();
        dev.preview.scm.ScmApiCalls.record(provider, code, remaining(response));
        String text = readBody(response);
        if (code >= 200 && code < 300) {
          return new ApiResponse(code, response.headers(), parse(text));
        }
        RateLimit limit = rateLimit(response, text);
        if (limit != null) {
          Duration wait = limit.delay != null ? limit.delay : secondaryBackoff.multipliedBy(1L << Math.min(secondaryHits++, 4));
          if (attempt < maxAttempts && wait.compareTo(maxWait) <= 0) {
            LOG.warn("{}: {} rate limited ({}); waiting {} s before attempt {}", provider, what, limit.kind, wait.toSeconds(), attempt + 1);
            sleeper.sleep(wait);
            continue;
          }
          Instant retryAt = limit.reset != null ? limit.reset : limit.delay != null ? clock.instant().plus(limit.delay) : null;
          throw new ProviderException(provider, what + " is rate limited (" + limit.kind + ")"
              + (limit.reset != null ? " until " + limit.reset : "")
              + (wait.compareTo(maxWait) > 0 ? ", which is longer than the " + maxWait.toSeconds()
                  + " s this client waits; try again later or raise rateLimitMaxWait" : " after " + attempt + " attempts"),
              true, code, null, retryAt);
        }
        if (code >= 500 && idempotent && attempt < maxAttempts) {
          Duration wait = backoff.multipliedBy(1L << Math.min(errorRetries++, 6));
          LOG.warn("{}: {} answered {}; retrying in {} ms", provider, what, code, wait.toMillis());
          sleeper.sleep(wait);
          continue;
        }
        throw error(what, code, text);
      } catch (IOException e) {
        dev.preview.scm.ScmApiCalls.record(provider, -1, -1);
        if (idempotent && attempt < maxAttempts && !(e instanceof InterruptedIOException && Thread.currentThread().isInterrupted())) {
          Duration wait = backoff.multipliedBy(1L << Math.min(errorRetries++, 6));
          LOG.warn("{}: {} failed ({}); retrying in {} ms", provider, what, e.toString(), wait.toMillis());
          sleeper.sleep(wait);
          continue;
        }
        throw new ProviderException(provider, what + " failed: " + e.getMessage()
            + " (is " + url.scheme() + "://" + url.host() + ":" + url.port() + " reachable?)", true, e);
      }
    }
  }

  private Request request(String method, HttpUrl url, JsonNode body, Map<String, String> headers) {
    Request.Builder rb = new Request.Builder().url(url);
    headers.forEach(rb::header);
    RequestBody rbody = null;
    if (body != null) {
      try {
        rbody = RequestBody.create(MAPPER.writeValueAsBytes(body), JSON);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    } else if (!method.equals("GET") && !method.equals("DELETE")) {
      rbody = RequestBody.create(new byte[0], JSON);
    }
    return rb.method(method, rbody).build();
  }

  private static String readBody(Response response) throws IOException {
    ResponseBody b = response.body();
    return b == null ? "" : b.string();
  }

  private JsonNode parse(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      throw new ProviderException(provider, "answered with a body that is not JSON: " + cut(text), false, e);
    }
  }

  private record RateLimit(String kind, Duration delay, Instant reset) {}

  /** Null if this answer is not a rate limit; else how long the server asks us to wait (null: unknown). */
  private RateLimit rateLimit(Response r, String text) {
    int code = r.code();
    if (code != 429 && code != 403) {
      return null;
    }
    Duration retryAfter = retryAfter(r.header("Retry-After"));
    String remaining = first(r.header("X-RateLimit-Remaining"), r.header("RateLimit-Remaining"));
    String reset = first(r.header("X-RateLimit-Reset"), r.header("RateLimit-Reset"));
    boolean secondary = text != null && text.toLowerCase(java.util.Locale.ROOT).contains("rate limit");
    if (retryAfter != null) {
      return new RateLimit(secondary ? "secondary limit, Retry-After" : "Retry-After", retryAfter, clock.instant().plus(retryAfter));
    }
    if (remaining != null && "0".equals(remaining.trim())) {
      // The primary quota is used up. Without a (readable) reset time we do not know when it
      // refills: that is not a secondary limit, whatever the body says; back off as for one.
      if (reset != null) {
        try {
          Instant at = Instant.ofEpochSecond(Long.parseLong(reset.trim()));
          Duration wait = Duration.between(clock.instant(), at).plusSeconds(1);
          return new RateLimit("quota exhausted", wait.isNegative() ? Duration.ofSeconds(1) : wait, at);
        } catch (NumberFormatException e) {
          // fall through
        }
      }
      return new RateLimit("quota exhausted, no reset time given", null, null);
    }
    if (code == 429 || secondary) {
      return new RateLimit(code == 429 ? "429" : "secondary limit", null, null);
    }
    return null;
  }

  /** The rate budget left as the answer says, or -1. */
  private static long remaining(Response r) {
    String v = first(r.header("X-RateLimit-Remaining"), r.header("RateLimit-Remaining"));
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Duration retryAfter(String v) {
    if (v == null || v.isBlank()) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
    } catch (NumberFormatException e) {
      try {
        Instant at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(Instant.now(), at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (RuntimeException e2) {
        return null;
      }
    }
  }

  private ProviderException error(String what, int code, String text) {
    String detail = detail(text);
    String hint = switch (code) {
      case 401 -> "the credentials were refused: check the token (or the app id and private key) and that it has not expired";
      case 403 -> "the credentials lack a permission this call needs (pull requests, issues, deployments or statuses: write)";
      case 404 -> "not found: check the repository name and baseUrl, and that the token can see this repository";
      case 409 -> "conflict with the current state on the server";
      case 422 -> "the server refused the request as invalid";
      default -> code >= 500 ? "the server failed; this is usually temporary" : "the request was refused";
    };
    boolean retryable = code >= 500 || code == 409;
    return new ProviderException(provider, what + " returned " + code + ": " + hint + (detail.isEmpty() ? "" : " (" + detail + ")"),
        retryable, code, null);
  }

  /** The vendor's own message: GitHub {@code message} + {@code errors[].message}, GitLab {@code message} or {@code error}. */
  private static String detail(String text) {
    if (text == null || text.isBlank()) {
      return "";
    }
    try {
      JsonNode n = MAPPER.readTree(text);
      StringBuilder sb = new StringBuilder();
      JsonNode msg = n.has("message") ? n.get("message") : n.get("error");
      if (msg != null) {
        sb.append(msg.isTextual() ? msg.asText() : msg.toString());
      }
      JsonNode errors = n.get("errors");
      if (errors != null && errors.isArray()) {
        for (JsonNode e : errors) {
          String m = e.isTextual() ? e.asText() : e.path("message").asText(e.path("code").asText(""));
          if (!m.isEmpty()) {
            sb.append(sb.length() > 0 ? "; " : "").append(m);
          }
        }
      }
      return cut(sb.toString());
    } catch (IOException e) {
      return cut(text);
    }
  }

  private static String first(String a, String b) {
    return a != null ? a : b;
  }

  private static String cut(String s) {
    String oneLine = s.replaceAll("\\s+", " ").trim();
    return oneLine.length() > 300 ? oneLine.substring(0, 300) + "..." : oneLine;
  }

  /** Options of an {@link ApiClient}. */
  public static final class Builder {
    private final String provider;
    private OkHttpClient http;
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = Sleeper.REAL;
    private int maxAttempts = 4;
    private Duration maxWait = Duration.ofSeconds(60);
    private Duration backoff = Duration.ofMillis(500);
    private Duration secondaryBackoff = Duration.ofSeconds(60);

    private Builder(String provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
    }

    public Builder http(OkHttpClient http) {
      this.http = http;
      return this;
    }

    /**
     * An HTTP client with this read timeout per call, a connect timeout of 10 s and twice the
     * timeout for a whole call (the default is 30 s).
     */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new ConfigurationException("timeout: must be longer than zero, got " + timeout);
      }
      this.http = new OkHttpClient.Builder()
          .connectTimeout(Duration.ofSeconds(10))
          .readTimeout(timeout)
          .callTimeout(timeout.multipliedBy(2))
          .build();
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    public Builder maxAttempts(int n) {
      if (n < 1) {
        throw new ConfigurationException("maxAttempts: must be at least 1, got " + n);
      }
      this.maxAttempts = n;
      return this;
    }

    /** The longest single wait for a rate limit; longer limits fail fast with a retryable error. */
    public Builder maxWait(Duration d) {
      this.maxWait = Objects.requireNonNull(d, "maxWait");
      return this;
    }

    /** First wait after a 5xx or I/O error; doubled per attempt. */
    public Builder backoff(Duration d) {
      this.backoff = Objects.requireNonNull(d, "backoff");
      return this;
    }

    /** Wait after a secondary rate limit that names no time (GitHub asks for at least a minute). */
    public Builder secondaryBackoff(Duration d) {
      this.secondaryBackoff = Objects.requireNonNull(d, "secondaryBackoff");
      return this;
    }

    public ApiClient build() {
      if (http == null) {
        timeout(Duration.ofSeconds(30));
      }
      return new ApiClient(this);
    }
  }
}
