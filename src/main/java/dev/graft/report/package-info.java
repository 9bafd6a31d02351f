/**
 * The training report: one self-contained HTML page ({@link dev.graft.report.HtmlReport}) with
 * learning curves, the confusion matrix, per-class metrics and the run's settings. Charts are drawn
 * by XChart and embedded as base64 PNG, so the page needs no other file and no network.
 */
package dev.graft.report;
