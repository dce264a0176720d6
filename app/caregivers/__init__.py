from flask import Blueprint

bp = Blueprint("caregivers", __name__, template_folder="templates", url_prefix=None)
