package dev.preview.dns.cloudflare;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import retrofit2.Call;
import retrofit2.http.Body;
import retrofit2.http.DELETE;
import retrofit2.http.GET;
import retrofit2.http.POST;
import retrofit2.http.PUT;
import retrofit2.http.Path;
import retrofit2.http.Query;
import retrofit2.http.QueryMap;

/** The few Cloudflare API v4 endpoints we use (https://developers.cloudflare.com/api/). */
interface CloudflareApi {
  @GET("zones")
  Call<Envelope<List<Zone>>> zones(@Query("name") String name);

  @GET("zones/{zone}/dns_records")
  Call<Envelope<List<Record>>> records(@Path("zone") String zoneId, @QueryMap Map<String, String> query);

  @POST("zones/{zone}/dns_records")
  Call<Envelope<Record>> create(@Path("zone") String zoneId, @Body Record record);

  @PUT("zones/{zone}/dns_records/{id}")
  Call<Envelope<Record>> update(@Path("zone") String zoneId, @Path("id") String id, @Body Record record);

  @DELETE("zones/{zone}/dns_records/{id}")
  Call<Envelope<Record>> delete(@Path("zone") String zoneId, @Path("id") String id);

  /**
   * {@code POST /zones/{zone_id}/dns_records/batch}: deletes, patches, puts, then posts, in one
   * transaction (all or nothing). We send deletes only.
   */
  @POST("zones/{zone}/dns_records/batch")
  Call<Envelope<BatchResult>> batch(@Path("zone") String zoneId, @Body Batch batch);

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Batch(List<Id> deletes) {}

  record Id(String id) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record BatchResult(List<Record> deletes) {}

  /** Every v4 response: {@code {"success":..,"errors":[..],"messages":[..],"result":..,"result_info":..}}. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Envelope<T>(boolean success, List<Message> errors, T result,
      @JsonProperty("result_info") ResultInfo resultInfo) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record Message(int code, String message) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ResultInfo(int page, @JsonProperty("per_page") int perPage, int count,
      @JsonProperty("total_count") int totalCount, @JsonProperty("total_pages") int totalPages) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record Zone(String id, String name, String status) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Record(String id, String type, String name, String content, Integer ttl, Boolean proxied, String comment) {
    static Record of(String type, String name, String content, int ttl, boolean proxied, String comment) {
      return new Record(null, type, name, content, ttl, proxied, comment);
    }
  }
}
