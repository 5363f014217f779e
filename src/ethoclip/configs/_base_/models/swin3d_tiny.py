# Video Swin-T with torchvision's Kinetics-400 weights.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='TVSwinTransformer3D', arch='tiny', pretrained='torchvision://Swin3D_T_Weights.KINETICS400_V1'),
    cls_head=dict(type='I3DHead', num_classes=None, dropout_ratio=0.5, init_std=0.02,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
