# TimeSformer-Base (transformers'), divided space-time attention, Kinetics-400 weights from the hub.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='HFTimeSformer', num_frames=8, img_size=224, patch_size=16, embed_dims=768,
                  attention_type='divided_space_time', dropout_ratio=0.,
                  norm_cfg=dict(type='LN', eps=1e-6),
                  pretrained='hf://facebook/timesformer-base-finetuned-k400'),
    cls_head=dict(type='TimeSformerHead', num_classes=None, init_std=0.02,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5],
                           std=[127.5, 127.5, 127.5], format_shape='NCTHW'))
