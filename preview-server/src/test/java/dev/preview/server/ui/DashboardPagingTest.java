package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Paging at 1,000 previews: {@code /api/previews} by limit and cursor (ordered by key, filters before
 * paging, {@code X-Total-Count}, {@code Link: rel="next"}, a cursor that survives previews coming and
 * going) and the list page by {@code page} ("n of m").
 */
class DashboardPagingTest {
  static final int N = 1000;
  private final HttpClient http = HttpClient.newHttpClient();
  private DashboardFixture f;

  @BeforeEach
  void thousandPreviews() throws Exception {
    f = new DashboardFixture();
    for (int i = 1; i <= N; i++) {
      plant(i, i % 10 == 0 ? Environment.Phase.SUSPENDED : Environment.Phase.RUNNING);
    }
  }

  private void plant(int number, Environment.Phase phase) {
    PreviewKey key = PreviewKey.pr("acme/shop", number);
    f.env.plant(new Environment(key, "c".repeat(40), URI.create("http://pr-" + number + ".fake.test/"), phase,
        Map.of(Labels.MANAGED, "true", Labels.KEY, key.id(), Labels.CREATED, DashboardFixture.NOW.toString())));
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(f.url(path)).header("Authorization", "Bearer " + DashboardFixture.READ).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static List<Integer> numbers(HttpResponse<String> r) throws Exception {
    List<Integer> out = new ArrayList<>();
    for (JsonNode n : PreviewJson.JSON.readTree(r.body())) {
      out.add(n.get("number").asInt());
    }
    return out;
  }

  private static String next(HttpResponse<String> r) {
    String link = r.headers().firstValue("Link").orElse(null);
    if (link == null) {
      return null;
    }
    Matcher m = Pattern.compile("<([^>]+)>; rel=\"next\"").matcher(link);
    assertThat(m.matches()).as(link).isTrue();
    return m.group(1);
  }

  @Test
  void everyPreviewOnceInKeyOrderPageByPage() throws Exception {
    HttpResponse<String> first = get("/api/previews");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(numbers(first)).as("the default page").hasSize(Dashboard.DEFAULT_LIMIT);
    assertThat(first.headers().firstValue("X-Total-Count")).hasValue("1000");

    List<Integer> seen = new ArrayList<>();
    String path = "/api/previews?limit=150";
    int pages = 0;
    while (path != null) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      seen.addAll(numbers(r));
      path = next(r);
      pages++;
    }
    assertThat(pages).isEqualTo(7);
    List<Integer> all = new ArrayList<>();
    for (int i = 1; i <= N; i++) {
      all.add(i);
    }
    assertThat(seen).isEqualTo(all);
  }

  @Test
  void aCursorHoldsWhilePreviewsComeAndGo() throws Exception {
    HttpResponse<String> first = get("/api/previews?limit=100");
    assertThat(numbers(first)).last().isEqualTo(100);
    // meanwhile: #50 (already shown) goes, #101 (next) goes, #1001 arrives
    f.env.delete(PreviewKey.pr("acme/shop", 50));
    f.env.delete(PreviewKey.pr("acme/shop", 101));
    plant(1001, Environment.Phase.RUNNING);
    HttpResponse<String> second = get(next(first));
    assertThat(numbers(second)).first().as("nothing skipped, nothing twice").isEqualTo(102);
    assertThat(numbers(second)).hasSize(100).last().isEqualTo(201);
    assertThat(second.headers().firstValue("X-Total-Count")).hasValue("999");
  }

  @Test
  void filtersApplyBeforePaging() throws Exception {
    HttpResponse<String> sleeping = get("/api/previews?state=sleeping&limit=30");
    assertThat(sleeping.headers().firstValue("X-Total-Count")).hasValue("100");
    assertThat(numbers(sleeping)).hasSize(30).allMatch(n -> n % 10 == 0).startsWith(10, 20, 30);
    assertThat(next(sleeping)).contains("state=SLEEPING");
    HttpResponse<String> rest = get(next(sleeping));
    assertThat(numbers(rest)).startsWith(310).allMatch(n -> n % 10 == 0);

    HttpResponse<String> search = get("/api/previews?q=shop%2399");
    assertThat(numbers(search)).containsExactly(99, 990, 991, 992, 993, 994, 995, 996, 997, 998, 999);
    assertThat(search.headers().firstValue("Link")).isEmpty();

    assertThat(get("/api/previews?limit=0").statusCode()).isEqualTo(400);
    HttpResponse<String> bad = get("/api/previews?limit=5000&cursor=%21%21&state=asleep");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("limit: must be a number from 1 to 1000", "cursor: not one this server gave",
        "state: one of");
  }

  @Test
  void theListPageShowsOnePageAndNOfM() throws Exception {
    String page1 = get("/ui/").body();
    assertThat(page1).contains("<caption>1–50 of 1000 previews</caption>", "page 1 of 20", "rel=\"next\" href=\"/ui/?page=2\"");
    assertThat(rows(page1)).hasSize(Html.PAGE_SIZE).first().isEqualTo("acme/shop#1");

    String page3 = get("/ui/?page=3").body();
    assertThat(page3).contains("<caption>101–150 of 1000 previews</caption>", "rel=\"prev\" href=\"/ui/?page=2\"");
    assertThat(rows(page3)).first().isEqualTo("acme/shop#101");
    assertThat(page3).as("the live refresh keeps the page").contains("data-src=\"/ui/?page=3&amp;fragment=live\"");

    String sleeping = get("/ui/?state=SLEEPING&page=2").body();
    assertThat(sleeping).contains("<caption>51–100 of 100 of 1000 previews</caption>");
    assertThat(rows(sleeping)).hasSize(50).first().isEqualTo("acme/shop#510");

    String few = get("/ui/?q=shop%23100").body();
    assertThat(few).contains("<caption>2 of 1000 previews</caption>").doesNotContain("page 1 of");
    assertThat(get("/ui/?page=999").body()).as("past the end: the last page").contains("951–1000 of 1000");
  }

  private static List<String> rows(String html) {
    List<String> keys = new ArrayList<>();
    Matcher m = Pattern.compile("<tr data-key=\"([^\"]+)\"").matcher(html);
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }
}
