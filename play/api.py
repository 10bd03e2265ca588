from ninja import Router

router = Router(tags=["play"])


@router.get("/health")
def health(request):
    return {"status": "ok"}
