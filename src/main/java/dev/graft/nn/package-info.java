/**
 * Small helpers over Deeplearning4j's network configuration types, shared by the base catalog,
 * the strategies and the inference rewriter so that each rule about DL4J lives in one place.
 */
package dev.graft.nn;
