"""The compliance studio's API: drafts of a process bundle, proof, four eyes, deploy, audit."""
