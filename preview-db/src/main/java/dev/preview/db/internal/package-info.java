/**
 * Helpers shared by the database providers of this module (ownership marks, per-installation
 * names, passwords). Not API: anything here may change or disappear in any release without notice.
 */
package dev.preview.db.internal;
