/**
 * Implementation shared by the GitHub and GitLab providers (HTTP client, config readers, webhook
 * helpers). <strong>Not API:</strong> anything here may change or disappear in any release without
 * notice; depend on {@code dev.preview.scm}, {@code dev.preview.scm.github} and
 * {@code dev.preview.scm.gitlab} only.
 */
package dev.preview.scm.internal;
