/**
 * Vision transformers (ViT-B/16, DINOv2 ViT-S/14 and ViT-B/14) built from Graft's transformer
 * layers in {@code dev.graft.nn}, with layer names that map one to one onto the publishers' state
 * dicts (torchvision, timm, Meta's DINOv2, Hugging Face transformers).
 */
package dev.graft.base.vit;
