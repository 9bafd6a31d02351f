/**
 * Bases whose weights come from a PyTorch state dict in a {@code .safetensors} file, under the
 * publisher's own tensor names (torchvision, timm, Meta): {@link
 * dev.graft.base.torch.StateDictMapping} maps names and layouts onto a DL4J graph and checks every
 * name and shape before any data is read; {@link dev.graft.base.torch.TorchResNet} and {@link
 * dev.graft.base.torch.ConvNeXt} build the graphs. Pickled {@code .pth}/{@code .pt} files are never
 * read.
 */
package dev.graft.base.torch;
