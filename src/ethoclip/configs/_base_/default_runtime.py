# What every ethoclip config inherits: checkpoints, logging and seeding, in MMAction2's words.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='auto'),
)
randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False
