# --model hybrid_follow: hybrid_zoom_pairs for one small animal among other motion (a
# fluttering leaf, a swaying plant, a hand-held camera). The statistics are measured on frames
# moved onto the clip's middle one (stabilise) and add the position of the densest small patch
# of foreground, frame by frame (track); the CNN sees, frame by frame, a square of a third of
# the frame's short side (64 px at 192) centred on that patch (follow): the animal's posture
# and limbs at twice hybrid's resolution, its own travel taken out (the statistics keep it).
# One animal: with two that interact, the view follows one of them (hybrid or hybrid_zoom).
_base_ = ['./hybrid_zoom_pairs.py']
model = dict(backbone=dict(zoom=None, follow=0.33, stabilise=True, track=True))
