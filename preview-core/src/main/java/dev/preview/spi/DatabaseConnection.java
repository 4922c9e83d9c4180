package dev.preview.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a preview's app reaches its own database.
 *
 * @param name the database (or schema, or key prefix) created for the preview
 * @param url connection URL without credentials (e.g. {@code jdbc:postgresql://h:5432/pr_42})
 * @param username the preview's own user, or null where there is none
 * @param password the preview's own password, or null where there is none
 * @param env plain env vars to inject (e.g. {@code PGHOST}, {@code PGDATABASE})
 * @param secretEnv env vars that carry credentials (e.g. {@code DATABASE_URL} with a password, {@code PGPASSWORD})
 */
public record DatabaseConnection(
    String name, String url, @Nullable String username, @Nullable Secret password, Map<String, String> env, Map<String, Secret> secretEnv) {

  public DatabaseConnection {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(url, "url");
    env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
    secretEnv = secretEnv == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(secretEnv));
  }
}
