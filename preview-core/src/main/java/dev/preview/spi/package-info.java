/**
 * The service provider interfaces of preview, and the value types they exchange.
 *
 * <p>Four work interfaces ({@link dev.preview.spi.EnvironmentProvider},
 * {@link dev.preview.spi.DatabaseProvider}, {@link dev.preview.spi.DnsProvider},
 * {@link dev.preview.spi.ScmNotifier}) and one query interface
 * ({@link dev.preview.spi.PullRequestSource}), each with a nested {@code Factory} that
 * {@link java.util.ServiceLoader} discovers and that builds its provider from a
 * {@link dev.preview.spi.ProviderContext}: the provider's own typed section of
 * {@code preview.yaml} plus the {@link dev.preview.spi.Installation} it belongs to.
 *
 * <p>Nullness: everything in this package is non-null unless annotated
 * {@link org.jspecify.annotations.Nullable @Nullable}; optional values are returned as
 * {@link java.util.Optional} where they are not record components. Every failure is an unchecked
 * {@link dev.preview.spi.PreviewException}.
 */
@NullMarked
package dev.preview.spi;

import org.jspecify.annotations.NullMarked;
