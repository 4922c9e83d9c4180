package dev.preview.scm;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;

/**
 * Verifies and parses the webhooks of one SCM into SCM-neutral events.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Verifies the signature or token in constant time before reading the body as JSON; an
 *       unverified delivery is {@link WebhookResult.Rejected Rejected} with
 *       {@link WebhookResult.Reason#UNAUTHORIZED UNAUTHORIZED} and nothing else is looked at.</li>
 *   <li>Never throws for bad input: every delivery maps to exactly one {@link WebhookResult}.
 *       Events it does not handle are {@link WebhookResult.Ignored Ignored} with a reason.</li>
 *   <li>Stateless and thread-safe; cheap enough to call on the request thread.</li>
 * </ul>
 */
public interface WebhookSource {

  /** The SCM: {@code github} or {@code gitlab}. */
  String name();

  WebhookResult handle(WebhookRequest request);

  /** Discovered from {@code META-INF/services/dev.preview.scm.WebhookSource$Factory}. */
  interface Factory {
    String name();

    /** Reads the {@code scm} section; throws {@code ConfigurationException} listing every problem. */
    WebhookSource create(ProviderContext context);
  }
}
