# R(2+1)D-18 with torchvision's Kinetics-400 weights.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='TVResNet2Plus1d18', depth=18, pretrained='torchvision://R2Plus1D_18_Weights.KINETICS400_V1'),
    cls_head=dict(type='I3DHead', num_classes=None, dropout_ratio=0.5, init_std=0.01,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[110.2008, 100.63983, 95.99475],
                           std=[58.14765, 56.46975, 55.332195], format_shape='NCTHW'))
