"""What users run: the Streamlit demo's logic and the ``sketch-to-photo photo`` command."""
