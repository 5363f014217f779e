# ethoclip's default model without a GPU or pretrained weights: frames, their differences and
# the frames minus the clip's mean (motion and the animal against its background), a
# per-frame stem and (2+1)D blocks, mean + max pooling. Trains from scratch in CPU minutes.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='MotionNet', widths=(16, 32, 48, 96, 128)),
    cls_head=dict(type='I3DHead', num_classes=None, dropout_ratio=0.3, init_std=0.01,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
