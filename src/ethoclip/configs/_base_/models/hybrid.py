# A CPU model without pretrained weights (--model hybrid): a small 3D CNN (TinyVideoNet,
# frames + their differences) beside 44 motion/foreground statistics of the clip computed in
# the model (how much moves, where the animal is, its extent and speed), one linear classifier
# over both. Trains from scratch in CPU minutes. steps=True + StepHead: it is also taught which
# behaviour is on at every sampled frame (prepare's segments), and predict's bouts come from
# those per-step scores. gate_motion=True: frame differences count only where the animal is
# (sensor noise, which x264 partly removes from the clips, is not motion).
model = dict(
    type='Recognizer3D',
    backbone=dict(type='HybridNet', widths=(16, 32, 64, 128), cnn_dropout=0.0, branch_drop=0.0,
                  steps=True, gate_motion=True),
    cls_head=dict(type='StepHead', num_classes=None, dropout_ratio=0.2, init_std=0.01,
                  hidden=64, kernel_size=5, step_loss_weight=1.0, clip_score='steps',
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
