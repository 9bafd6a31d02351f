/**
 * The bundled demo data: 10,000 MNIST digits packed inside the jar, unpacked to PNG folders on
 * demand by {@link dev.graft.demo.DemoData} for the {@code demo} command, tests and benchmarks. No
 * network is needed.
 */
package dev.graft.demo;
