# TSN: ResNet-18 on each sampled frame (ImageNet weights from torchvision), average consensus.
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, norm_eval=False,
                  pretrained='https://download.pytorch.org/models/resnet18-f37072fd.pth'),
    cls_head=dict(type='TSNHead', num_classes=None, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01,
                  average_clips='prob'),  # num_classes and the loss: from the data
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'))
