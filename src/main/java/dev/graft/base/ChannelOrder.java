package dev.graft.base;

/** Order of the colour channels in the tensor a base consumes. */
public enum ChannelOrder {
  RGB,
  BGR
}
