# VideoMAE ViT-B/16, 16 frames, Kinetics-400 weights from the Hugging Face hub.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='HFVideoMAE', img_size=224, patch_size=16, embed_dims=768, depth=12,
                  num_heads=12, num_frames=16, tubelet_size=2, use_mean_pooling=True,
                  pretrained='hf://MCG-NJU/videomae-base-finetuned-kinetics'),
    cls_head=dict(type='TimeSformerHead', num_classes=None, init_std=0.02,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
