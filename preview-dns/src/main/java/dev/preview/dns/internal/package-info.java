/**
 * Helpers shared by the DNS providers of this module (ownership marks, zone names, configuration
 * keys). Not an API: anything here may change or disappear in any release without notice; use the
 * providers in {@code dev.preview.dns.cloudflare}, {@code .route53}, {@code .rfc2136} and
 * {@code .none} instead.
 */
package dev.preview.dns.internal;
