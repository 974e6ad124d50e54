#@ message: plain.eml
# discard cancels the implicit keep only; an explicit keep still stores.
discard;
keep;
