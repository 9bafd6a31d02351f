/**
 * The one unchecked exception Graft throws for bad configuration or bad input, {@link
 * dev.graft.error.GraftException}. A package of its own, with no imports from the rest of Graft, so
 * that every other package can throw it while imports keep flowing one way (see {@code
 * docs/architecture.md}).
 */
package dev.graft.error;
