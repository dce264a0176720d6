from flask import Blueprint

bp = Blueprint("team", __name__, template_folder="templates", url_prefix="/team")
