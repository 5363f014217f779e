# A small 3D CNN that trains in minutes on a laptop CPU (the demo's model). No pretrained weights.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='TinyVideoNet', widths=(16, 32, 64, 128)),
    cls_head=dict(type='I3DHead', num_classes=None, dropout_ratio=0.2, init_std=0.01,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
